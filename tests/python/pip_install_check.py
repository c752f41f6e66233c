"""`pip install examples/python` works offline, and the installed package
runs on the built library: shipped inside the package, and from
$LANDFALL_LIBRARY.

    python3 tests/python/pip_install_check.py SOURCE_DIR LIBRARY

Needs venv with pip (Debian: python3-venv) and a wheel of `wheel` in
/usr/share/python-wheels (Debian: python3-wheel-whl) unless the venv has it.
"""

import os
import shutil
import subprocess
import sys
import tempfile

WHEELS = "/usr/share/python-wheels"

SMOKE = r"""
import importlib.metadata, os, sys
import landfall
print(landfall.library_path())
assert importlib.metadata.version("landfall") == landfall.version(), \
    "pyproject.toml's version is not the library's"
spec = 'table { name: "src" source: true }\ntable { name: "load" upstream: "src" }\n'
with landfall.Scheduler(spec_text=spec) as s:
    s.ingest("e1", "src", "2018-11-03")
    [task] = s.claim("w1")
    s.complete(task["table"], task["partition"], task["attempt"])
    assert s.status("load")[0]["state"] == "SUCCEEDED"
"""


def run(args, env, cwd=None):
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(args)}\n"
                 f"{done.stdout}{done.stderr}")
    return done.stdout


def main():
    source_dir, library = sys.argv[1], os.path.realpath(sys.argv[2])
    tmp = tempfile.mkdtemp(prefix="landfall-pip-")
    try:
        # No user or site pip configuration, no index: offline for sure.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PIP_", "PYTHON", "LANDFALL_"))}
        env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1",
                   PIP_DISABLE_PIP_VERSION_CHECK="1",
                   PYTHONDONTWRITEBYTECODE="1")
        src = os.path.join(tmp, "src")
        shutil.copytree(
            os.path.join(source_dir, "examples", "python"), src,
            ignore=shutil.ignore_patterns("build", "*.egg-info",
                                          "__pycache__", "liblandfall.so*"))
        shutil.copy(library, os.path.join(src, "landfall", "liblandfall.so.0"))
        venv = os.path.join(tmp, "venv")
        run([sys.executable, "-m", "venv", venv], env)
        python = os.path.join(venv, "bin", "python")
        if subprocess.run([python, "-c", "import wheel"], env=env,
                          capture_output=True, check=False).returncode != 0:
            run([python, "-m", "pip", "install", "--find-links", WHEELS,
                 "wheel"], env)
        run([python, "-m", "pip", "install", "--no-build-isolation", src], env)

        # From elsewhere, so that only the installed package can be imported.
        shipped = run([python, "-c", SMOKE], env, cwd=tmp).splitlines()[0]
        site = run([python, "-c", "import sysconfig; "
                    "print(sysconfig.get_paths()['purelib'])"], env).strip()
        if shipped != os.path.join(site, "landfall", "liblandfall.so.0"):
            sys.exit(f"loaded {shipped}, not the library in the package")
        env["LANDFALL_LIBRARY"] = library
        chosen = run([python, "-c", SMOKE], env, cwd=tmp).splitlines()[0]
        if chosen != library:
            sys.exit(f"loaded {chosen}, not $LANDFALL_LIBRARY {library}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("pip install check: passed")


if __name__ == "__main__":
    main()
