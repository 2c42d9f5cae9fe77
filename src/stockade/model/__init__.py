"""API objects as typed immutable values, their decoding from manifests and validation."""
