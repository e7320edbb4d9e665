import sys

from polarity.cli import program

sys.exit(program())
