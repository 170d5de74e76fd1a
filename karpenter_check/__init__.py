"""`python -m karpenter_check`: after `cdktf deploy`, check the live account and cluster against the synthesized stacks.

Prints one table (check, PASS/FAIL/SKIP, detail, fix) and exits 1 if any check failed. See
cli.py for the options, aws.py and cluster.py for the checks, scale_test.py for `--scale-test`.
"""
