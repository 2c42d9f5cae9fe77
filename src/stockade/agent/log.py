"""The agent's log: one line per event worth telling, as text or as JSON lines.

Text is for a person reading ``kubectl logs``; ``--log-format json`` gives one JSON object
per line (``time``, ``level``, ``msg`` and the event's fields) for a log pipeline. Every
value from the cluster is escaped in text, as everywhere in stockade.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import IO, Any

from stockade.render.escape import escape

LEVELS = ("debug", "info", "warning", "error")


class Log:
    def __init__(self, *, json_lines: bool = False, stream: IO[str] | None = None,
                 level: str = "info") -> None:
        self.json_lines = json_lines
        self.stream = stream or sys.stderr
        self.threshold = LEVELS.index(level)
        self._lock = threading.Lock()

    def _emit(self, level: str, msg: str, fields: dict[str, Any]) -> None:
        if LEVELS.index(level) < self.threshold:
            return
        now = time.time()
        millis = int(now % 1 * 1000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{millis:03d}Z"
        if self.json_lines:
            line = json.dumps({"time": stamp, "level": level, "msg": msg, **fields},
                              default=str, sort_keys=False)
        else:
            parts = [f"{k}={_text(v)}" for k, v in fields.items()]
            line = " ".join([stamp, level.upper(), escape(msg), *parts])
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def debug(self, msg: str, **fields: Any) -> None:
        self._emit("debug", msg, fields)

    def info(self, msg: str, **fields: Any) -> None:
        self._emit("info", msg, fields)

    def warning(self, msg: str, **fields: Any) -> None:
        self._emit("warning", msg, fields)

    def error(self, msg: str, **fields: Any) -> None:
        self._emit("error", msg, fields)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list | tuple):
        return escape(json.dumps(value, default=str, separators=(",", ":")))
    text = escape(str(value))
    return f'"{text}"' if " " in text else text
