"""Run ``python -m digest ...`` with identity resolution counted (for bench_scale.py).

Input: ``counting.py OUT.json DIGEST-ARGS...``. Output: the digest run as usual and, at
exit, OUT.json: per near-duplicate lookup the stored texts judged
(``digest.identity.matching.decide``'s candidates) and the papers found
(``digest.identity.resolve._bounded_candidates``), and the seconds of every resolution
(``Resolver.__call__``). The engine is wrapped from outside, in this process only (a cold
build resolves in the main process; its workers read and tag). A function the engine
no longer has is left out and reported as such.
"""

from __future__ import annotations

import atexit
import json
import os
import runpy
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def main() -> None:
    """Wrap, run digest, write the counts at exit."""
    out, sys.argv = sys.argv[1], ["digest", *sys.argv[2:]]
    from digest.identity import matching, resolve

    judged: list[int] = []
    papers: list[int] = []
    seconds: list[float] = []
    missing: list[str] = []

    def wrap(owner: Any, name: str, record: Callable[[tuple[Any, ...], Any, float], None]) -> None:
        inner = getattr(owner, name, None)
        if inner is None:
            missing.append(f"{getattr(owner, '__name__', owner)}.{name}")
            return

        def counted(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            result = inner(*args, **kwargs)
            record((*args, *kwargs.values()), result, time.perf_counter() - start)
            return result

        setattr(owner, name, counted)

    wrap(matching, "decide", lambda args, _, __: judged.append(len(args[2])))
    wrap(resolve, "_bounded_candidates", lambda _, found, __: papers.append(len(found)))
    wrap(resolve.Resolver, "__call__", lambda _, __, took: seconds.append(took))
    pid = os.getpid()

    def dump() -> None:
        if os.getpid() != pid:
            return
        counts = {"judged": judged, "papers": papers, "seconds": seconds, "missing": missing}
        Path(out).write_text(json.dumps(counts), "utf-8")

    atexit.register(dump)
    runpy.run_module("digest", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
