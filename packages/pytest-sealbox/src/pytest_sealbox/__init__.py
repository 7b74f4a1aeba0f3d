"""pytest-sealbox: a Sealbox (local AWS KMS and S3) for pytest suites.

Installed, the plugin registers itself (entry point `pytest11`, name `pytest_sealbox`); without
installing it, put its `src` directory on PYTHONPATH and load it with `-p pytest_sealbox`, or
`pytest_plugins = ["pytest_sealbox"]` in the top conftest.py.
"""
from .plugin import (
    _sealbox_reset,
    pytest_addoption,
    pytest_configure,
    sealbox,
    sealbox_env,
    sealbox_kms,
    sealbox_s3,
    sealbox_session,
)
from .sandbox import Sealbox, SealboxError, SealboxSession, find_command, start_sealbox

__all__ = ["Sealbox", "SealboxError", "SealboxSession", "find_command", "start_sealbox"]
__version__ = "0.1.0"
