"""`python -m gan_lab` runs the gan-lab command."""

import sys

from gan_lab.cli import main

sys.exit(main())
