"""Stable Terraform addresses: resources keep the names karpenter.tf gives them."""

from __future__ import annotations

from typing import TypeVar

from cdktf import TerraformElement

Element = TypeVar("Element", bound=TerraformElement)


def named(element: Element, logical_id: str | None = None) -> Element:
    """Address `element` by its construct id (or `logical_id`) instead of a hashed path.

    Gives `aws_iam_role.karpenter_controller` rather than `aws_iam_role.controller_karpenter_controller_1A2B3C4D`.
    `logical_id` serves where a data source and a resource share a name, as two constructs in one scope cannot.
    """
    element.override_logical_id(logical_id or element.node.id)
    return element
