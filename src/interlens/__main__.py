"""``python -m interlens`` (and ``accelerate launch -m interlens train ...``)."""

from .cli import main

main()
