import sys

from karpenter_check.cli import main

sys.exit(main())
