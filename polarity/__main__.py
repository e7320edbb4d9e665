import sys

from polarity.cli import main

sys.exit(main())
