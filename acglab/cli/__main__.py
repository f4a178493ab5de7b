import sys

from acglab.cli import main

sys.exit(main())
