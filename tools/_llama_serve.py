"""Run llama-cpp-python's server, exiting when the parent's stdin pipe closes.

Started by LocalServer. A thread blocks on stdin; EOF means the parent is gone (exited, crashed or
was killed), so the server ends itself instead of living on as an orphan.
"""

from __future__ import annotations

import os
import signal
import sys
import threading


def _watch_parent() -> None:
    sys.stdin.buffer.read()
    os.kill(os.getpid(), signal.SIGTERM)
    threading.Timer(5.0, lambda: os._exit(0)).start()


def main() -> None:
    threading.Thread(target=_watch_parent, daemon=True).start()
    from llama_cpp.server.__main__ import main as serve

    sys.argv[0] = "llama_cpp.server"
    serve()


if __name__ == "__main__":
    main()
