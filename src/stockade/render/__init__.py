"""Pure renderers: results -> text, JSON, CSV, Markdown. No I/O beyond the stream handed in."""
