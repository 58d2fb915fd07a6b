"""Pure domain logic: plain values in, plain values out; no I/O and no clock reads."""
