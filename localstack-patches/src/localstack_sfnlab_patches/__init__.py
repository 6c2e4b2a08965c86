"""Named patches to LocalStack 4.14.0, applied when its runtime starts (see plugin.py)."""
