# The rc-writing part of enroot's docker::configure (src/docker.sh, github.com/NVIDIA/enroot,
# Apache-2.0), with the arrays jq would give passed as arguments: URI WORKDIR LABELS.. @@ ENTRYPOINT.. @@ CMD..
initrc=$(mktemp); uri="$1"; workdir="$2"; shift 2
entrypoint=(); cmd=(); labels=()
while [ "$1" != "@@" ]; do labels+=("$1"); shift; done; shift
while [ "$1" != "@@" ]; do entrypoint+=("$1"); shift; done; shift
cmd=("$@")
printf '# enroot-provenance: %s\n' "${uri}" > "${initrc}"
for l in ${labels[@]+"${labels[@]}"}; do printf '%s\n' "$l" >> "${initrc}"; done
[ -s "${initrc}" ] && echo >> "${initrc}"
if [ "${#entrypoint[@]}" -eq 0 ] && [ "${#cmd[@]}" -eq 0 ]; then
    cmd=("/bin/sh")
fi
cat >> "${initrc}" <<- EOF
	mkdir -p "${workdir:-/}" 2> /dev/null
	cd "${workdir:-/}" && unset OLDPWD || exit 1
	
	if [ -s /etc/rc.local ]; then
	    . /etc/rc.local
	fi
	
	if [ \$# -gt 0 ]; then
	    exec ${entrypoint[@]+${entrypoint[@]@Q}} "\$@"
	else
	    exec ${entrypoint[@]+${entrypoint[@]@Q}} ${cmd[@]+${cmd[@]@Q}}
	fi
	EOF
cat "${initrc}"; rm -f "${initrc}"
