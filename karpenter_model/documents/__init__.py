"""Plain-Python builders of what the constructs wire in: policies, rule patterns, Helm values, manifests.

They take the typed config (and, where a value is only known to Terraform, a reference string)
and return plain data, so every one of them is testable without jsii.
"""
