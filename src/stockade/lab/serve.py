"""The lab's listener daemon: ``python -m stockade.lab.serve NAME`` answers on every declared
TCP/UDP container port of every pod of lab NAME until it is terminated.

It prints ``ready`` once every listener is open, so ``lab up`` returns only when a probe
can be answered.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from stockade.lab import state as lab_state
from stockade.lab.listeners import Responder


def main(argv: list[str]) -> int:
    lab = lab_state.load(argv[0])
    responder = Responder()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        responder.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pod in lab.pods:
        families = tuple(sorted({6 if ":" in ip else 4 for ip in pod.ips}))
        for port, protocol in pod.ports:
            if protocol in ("TCP", "UDP"):
                responder.listen(pod.netns, pod.key, int(port), protocol, families)
    print("ready", flush=True)
    responder.serve()
    responder.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
