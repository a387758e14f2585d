import { test } from "node:test";
import assert from "node:assert/strict";
import { inspectMetadata } from "./inspect-metadata.js";

test("apptainer inspect --all --json shape, trailing newlines trimmed, empty members omitted", () => {
  const text = inspectMetadata({
    labels: { b: "2", a: "1" },
    deffile: "bootstrap: docker\nfrom: alpine:3.20\n\n",
    runscript: "#!/bin/sh\nexec x\n",
    startscript: "",
    environment: {
      "/.singularity.d/env/90-environment.sh": "#!/bin/sh\n# custom\n\n",
      "/.singularity.d/env/10-docker2singularity.sh": '#!/bin/sh\nexport A="b"\n',
    },
  });
  assert.equal(
    text,
    '{"data":{"attributes":{"labels":{"a":"1","b":"2"},"deffile":"bootstrap: docker\\nfrom: alpine:3.20",' +
      '"runscript":"#!/bin/sh\\nexec x","environment":{' +
      '"/.singularity.d/env/10-docker2singularity.sh":"#!/bin/sh\\nexport A=\\"b\\"",' +
      '"/.singularity.d/env/90-environment.sh":"#!/bin/sh\\n# custom"}}},"type":"container"}',
  );
});
