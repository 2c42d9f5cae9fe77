"""The lab's daemon: ``python -m stockade.lab.serve NAME`` answers on every declared TCP/UDP
container port of every pod of lab NAME and, when the lab runs manifest commands, runs
the containers (``supervise``), until it is terminated.

It prints ``ready`` once every listener is open, so ``lab up`` returns only when a probe
can be answered.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from stockade.lab import state as lab_state
from stockade.lab.listeners import Responder
from stockade.lab.supervise import Supervisor


def main(argv: list[str]) -> int:
    lab = lab_state.load(argv[0])
    responder = Responder()
    supervisor = Supervisor(lab)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        responder.stop.set()
        supervisor.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pod in lab.pods:
        families = tuple(sorted({6 if ":" in ip else 4 for ip in pod.ips}))
        for port, protocol in pod.ports:
            if protocol in ("TCP", "UDP"):
                responder.listen(pod.netns, pod.key, int(port), protocol, families)
    print("ready", flush=True)
    sys.stdout.close()
    if lab.run_commands:
        threading.Thread(target=supervisor.run, daemon=True).start()
    responder.serve()
    responder.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
