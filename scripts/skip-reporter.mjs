// A reporter for Node's test runner that writes one JSON line per skipped test:
// {"file": "...", "name": "...", "reason": "..."}. run-tests.mjs adds it beside the spec reporter
// (https://nodejs.org/docs/latest-v20.x/api/test.html#custom-reporters) so that skips can be
// counted and, in CI, refused unless .ci/allowed-skips.txt lists them.
// Example: node --test --test-reporter=./scripts/skip-reporter.mjs --test-reporter-destination=skips.jsonl
export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { skip, name, file } = event.data;
    if (skip === undefined || skip === false) continue;
    const reason = typeof skip === "string" ? skip : "";
    yield `${JSON.stringify({ file: file ?? "", name, reason })}\n`;
  }
}
