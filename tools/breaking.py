"""Fail if proto/ breaks the wire, JSON or generated-code contract of the previous version.

Usage:
    breaking.py                 compare proto/ with the last earlier commit that changed proto/
    breaking.py --against REF   compare with proto/ at any git ref (branch, tag, commit)
    breaking.py --repo DIR      run in another checkout (the tests use a scratch repository)

The baseline is the newest commit before HEAD that touched proto/, so the check covers both
HEAD's own contract change and any uncommitted edits. When there is no earlier contract (a
fresh repository, or the commit that introduced proto/) it says so and exits 0.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_SUBDIR = "proto"


def buf_binary() -> str:
    """Locate buf beside the running interpreter (the venv) or on PATH."""
    candidate = Path(sys.executable).parent / "buf"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("buf")
    if found is None:
        raise SystemExit("buf not found; install buf-bin")
    return found


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a git command in repo and capture its output."""
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def has_revision(repo: Path, revision: str) -> bool:
    """Tell whether revision names an existing commit."""
    return git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode == 0


def has_proto_tree(repo: Path, revision: str) -> bool:
    """Tell whether proto/ exists at revision."""
    return git(repo, "cat-file", "-e", f"{revision}:{PROTO_SUBDIR}").returncode == 0


def proto_is_dirty(repo: Path) -> bool:
    """Tell whether proto/ has uncommitted changes, including new files."""
    status = git(repo, "status", "--porcelain", "--untracked-files=all", "--", PROTO_SUBDIR)
    return bool(status.stdout.strip())


def default_baseline(repo: Path) -> str | None:
    """Return the commit holding the previous contract, or None if there is none."""
    if not has_revision(repo, "HEAD"):
        return None
    if has_revision(repo, "HEAD~1"):
        previous = git(repo, "rev-list", "-n", "1", "HEAD~1", "--", PROTO_SUBDIR).stdout.strip()
        if previous and has_proto_tree(repo, previous):
            return previous
    # HEAD introduced proto/: only uncommitted edits can break it.
    if has_proto_tree(repo, "HEAD") and proto_is_dirty(repo):
        return "HEAD"
    return None


def run_breaking(repo: Path, against: str) -> int:
    """Run buf breaking on proto/ against proto/ at the given ref; return buf's exit code."""
    command = [
        buf_binary(),
        "breaking",
        PROTO_SUBDIR,
        "--against",
        f".git#ref={against},subdir={PROTO_SUBDIR}",
    ]
    print("$ " + " ".join(command), flush=True)
    return subprocess.run(command, cwd=repo, check=False).returncode


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", help="git ref holding the baseline contract")
    parser.add_argument(
        "--repo", type=Path, default=ROOT, help="repository root (default: this checkout)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Check for breaking changes; return the process exit code."""
    args = parse_args(argv)
    repo = args.repo.resolve()
    against = args.against or default_baseline(repo)
    if against is None:
        print("breaking: no earlier contract in git history; nothing to compare, skipping")
        return 0
    if not has_proto_tree(repo, against):
        print(f"breaking: {against} has no {PROTO_SUBDIR}/ directory; skipping")
        return 0
    status = run_breaking(repo, against)
    print("breaking: OK" if status == 0 else f"breaking: proto/ breaks the contract at {against}")
    return status


if __name__ == "__main__":
    sys.exit(main())
