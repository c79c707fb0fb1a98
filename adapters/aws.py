"""boto3 clients built from our settings (an endpoint URL points them at moto or LocalStack)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def aws_client(service: str, region: str, endpoint_url: str = "", **config: Any) -> Any:
    """A boto3 client for ``service``; credentials come from boto3's usual chain."""
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url or None,
                        config=Config(retries={"mode": "standard"}, **config))
