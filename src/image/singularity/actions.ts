/**
 * The fixed scripts of `/.singularity.d` that do not depend on the image: the action scripts the
 * runtime calls for `exec`, `run`, `shell`, `instance start` and `test`, the static environment
 * scripts, and an empty startscript. Written for this project (same behaviour as the files
 * Apptainer and SingularityCE install), plain POSIX sh.
 *
 * Every action first sources each `/.singularity.d/env/*.sh` that is a regular file, in glob
 * (i.e. numeric) order, so the image environment is in place before the command starts.
 *
 * @example
 * ```ts
 * for (const file of fixedSingularityFiles()) console.log(file.path, file.mode.toString(8));
 * // .singularity.d/actions/exec 755 …
 * ```
 */

/** A file of the `/.singularity.d` tree, path relative to the image root. */
export interface ScriptFile {
  path: string;
  mode: number;
  content: string;
}

const LOAD_ENV = `for script in /.singularity.d/env/*.sh; do
    if [ -f "$script" ]; then
        . "$script"
    fi
done
`;

export const ACTION_EXEC = `#!/bin/sh
# Action for "exec": load the container environment, then replace this shell with the command.
${LOAD_ENV}
exec "$@"
`;

export const ACTION_RUN = `#!/bin/sh
# Action for "run": the SCIF app's runscript when an app was chosen, else the container runscript,
# else an interactive /bin/sh.
${LOAD_ENV}
if [ -n "\${SINGULARITY_APPNAME:-}" ]; then
    if [ -x "/scif/apps/\${SINGULARITY_APPNAME}/scif/runscript" ]; then
        exec "/scif/apps/\${SINGULARITY_APPNAME}/scif/runscript" "$@"
    fi
    echo "No runscript for contained app: \${SINGULARITY_APPNAME}" >&2
    exit 1
fi

if [ -x /.singularity.d/runscript ]; then
    exec /.singularity.d/runscript "$@"
fi

echo "No runscript found in container, executing /bin/sh" >&2
exec /bin/sh "$@"
`;

export const ACTION_SHELL = `#!/bin/sh
# Action for "shell": $SINGULARITY_SHELL when it names an executable, else bash without rc files
# and with an Apptainer prompt, else /bin/sh.
${LOAD_ENV}
if [ -n "\${SINGULARITY_SHELL:-}" ]; then
    if [ -x "$SINGULARITY_SHELL" ]; then
        exec "$SINGULARITY_SHELL" "$@"
    fi
    echo "Shell \${SINGULARITY_SHELL} is not executable, falling back to the default shell" >&2
fi

if [ -x /bin/bash ]; then
    SHELL=/bin/bash
    PS1="Apptainer \${APPTAINER_NAME:-}:\\\\w> "
    export SHELL PS1
    exec /bin/bash --norc "$@"
fi

if [ -x /bin/sh ]; then
    SHELL=/bin/sh
    export SHELL
    exec /bin/sh "$@"
fi

echo "No shell found in container (/bin/sh is missing)" >&2
exit 1
`;

export const ACTION_START = `#!/bin/sh
# Action for "instance start": let PID 1 (held stopped by the runtime) continue, load the
# environment, then run the startscript.
kill -CONT 1

${LOAD_ENV}
if [ -x /.singularity.d/startscript ]; then
    exec /.singularity.d/startscript "$@"
fi
exit 0
`;

export const ACTION_TEST = `#!/bin/sh
# Action for "test": the SCIF app's test when an app was chosen, else the container test script,
# else succeed without doing anything.
${LOAD_ENV}
if [ -n "\${SINGULARITY_APPNAME:-}" ]; then
    if [ -x "/scif/apps/\${SINGULARITY_APPNAME}/scif/test" ]; then
        exec "/scif/apps/\${SINGULARITY_APPNAME}/scif/test" "$@"
    fi
    echo "No tests for contained app: \${SINGULARITY_APPNAME}" >&2
    exit 1
fi

if [ -x /.singularity.d/test ]; then
    exec /.singularity.d/test "$@"
fi

echo "No test script found in container, exiting" >&2
exec /bin/sh -c true
`;

export const ENV_01_BASE = `#!/bin/sh
#
# First environment script sourced by every action. It intentionally sets nothing: the image's
# variables come from 10-docker2singularity.sh, custom code belongs in 90-environment.sh.
`;

export const ENV_90_ENVIRONMENT = `#!/bin/sh
# Custom environment shell code should follow

`;

export const ENV_95_APPS = `#!/bin/sh
#
# SCIF apps: when an app is selected (SINGULARITY_APPNAME), put its directories first on PATH and
# LD_LIBRARY_PATH, export the SCIF_* locations and source the app's own environment scripts.
if [ -n "\${SINGULARITY_APPNAME:-}" ]; then
    export SINGULARITY_APPNAME
    if [ -d "/scif/apps/\${SINGULARITY_APPNAME}/" ]; then
        SCIF_APPS="/scif/apps"
        SCIF_APPNAME="\${SINGULARITY_APPNAME}"
        SCIF_APPROOT="/scif/apps/\${SINGULARITY_APPNAME}"
        SCIF_APPBIN="\${SCIF_APPROOT}/bin"
        SCIF_APPLIB="\${SCIF_APPROOT}/lib"
        SCIF_APPMETA="\${SCIF_APPROOT}/scif"
        SCIF_APPDATA="/scif/data/\${SINGULARITY_APPNAME}"
        SCIF_APPINPUT="\${SCIF_APPDATA}/input"
        SCIF_APPOUTPUT="\${SCIF_APPDATA}/output"
        export SCIF_APPS SCIF_APPNAME SCIF_APPROOT SCIF_APPBIN SCIF_APPLIB SCIF_APPMETA
        export SCIF_APPDATA SCIF_APPINPUT SCIF_APPOUTPUT

        PATH="\${SCIF_APPROOT}:\${PATH}"
        if [ -d "\${SCIF_APPBIN}" ]; then
            PATH="\${SCIF_APPBIN}:\${PATH}"
        fi
        export PATH

        if [ -d "\${SCIF_APPLIB}" ]; then
            if [ -n "\${LD_LIBRARY_PATH:-}" ]; then
                LD_LIBRARY_PATH="\${SCIF_APPLIB}:\${LD_LIBRARY_PATH}"
            else
                LD_LIBRARY_PATH="\${SCIF_APPLIB}"
            fi
            export LD_LIBRARY_PATH
        fi

        for app_env in "\${SCIF_APPMETA}/env/01-base.sh" "\${SCIF_APPMETA}/env/90-environment.sh"; do
            if [ -f "$app_env" ]; then
                . "$app_env"
            fi
        done
    else
        echo "Could not locate the container application: \${SINGULARITY_APPNAME}" >&2
        exit 1
    fi
fi
`;

export const ENV_99_BASE = `#!/bin/sh
#
# Last base settings: the runtime's bound libraries (GPU drivers...) come after the image's own
# LD_LIBRARY_PATH, and interactive shells get a default prompt.
if [ -n "\${LD_LIBRARY_PATH:-}" ]; then
    LD_LIBRARY_PATH="\${LD_LIBRARY_PATH}:/.singularity.d/libs"
else
    LD_LIBRARY_PATH="/.singularity.d/libs"
fi
# Keep a prompt passed in by the user; replace an empty one or a shell's built-in default.
case "\${PS1:-}" in
    "" | "# " | "$ ") PS1="Apptainer> " ;;
esac
export LD_LIBRARY_PATH PS1
`;

export const ENV_99_RUNTIMEVARS = `#!/bin/sh
#
# PATH changes requested at run time (--env PREPEND_PATH=..., APPEND_PATH=..., PATH=...) are applied
# here, after the image environment, so they win over it; the transfer variables are then removed.
if [ -n "\${SING_USER_DEFINED_PREPEND_PATH:-}" ]; then
    PATH="\${SING_USER_DEFINED_PREPEND_PATH}:\${PATH}"
fi
if [ -n "\${SING_USER_DEFINED_APPEND_PATH:-}" ]; then
    PATH="\${PATH}:\${SING_USER_DEFINED_APPEND_PATH}"
fi
if [ -n "\${SING_USER_DEFINED_PATH:-}" ]; then
    PATH="\${SING_USER_DEFINED_PATH}"
fi
unset SING_USER_DEFINED_PREPEND_PATH SING_USER_DEFINED_APPEND_PATH SING_USER_DEFINED_PATH
export PATH
`;

export const STARTSCRIPT = `#!/bin/sh
#
# Runs when an instance of this container is started. Images pulled from a registry define no
# start-up command.
`;

const EXECUTABLE = 0o755;

/** Every fixed file, paths relative to the image root, in a stable order. */
export function fixedSingularityFiles(): ScriptFile[] {
  const files: [string, string][] = [
    [".singularity.d/actions/exec", ACTION_EXEC],
    [".singularity.d/actions/run", ACTION_RUN],
    [".singularity.d/actions/shell", ACTION_SHELL],
    [".singularity.d/actions/start", ACTION_START],
    [".singularity.d/actions/test", ACTION_TEST],
    [".singularity.d/env/01-base.sh", ENV_01_BASE],
    [".singularity.d/env/90-environment.sh", ENV_90_ENVIRONMENT],
    [".singularity.d/env/95-apps.sh", ENV_95_APPS],
    [".singularity.d/env/99-base.sh", ENV_99_BASE],
    [".singularity.d/env/99-runtimevars.sh", ENV_99_RUNTIMEVARS],
    [".singularity.d/startscript", STARTSCRIPT],
  ];
  return files.map(([path, content]) => ({ path, mode: EXECUTABLE, content }));
}
