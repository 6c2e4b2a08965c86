"""The Lambdas' code, zipped the same way every time, so that unchanged code is skipped.

Each function's zip holds every `.py` file of the lambdas folder (its own handler and
the helpers it shares, like `simulated_action.py`); the handler setting picks the file.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

from sfnlab.errors import KitError

# Fixed metadata: the same files always give the same bytes, hence the same CodeSha256.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def build_zip(folder: Path) -> bytes:
    files = sorted(path for path in folder.glob("*.py") if path.is_file())
    if not files:
        raise KitError(f"No Python files in {folder}: there is no Lambda code to deploy.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.name, FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def code_sha256(data: bytes) -> str:
    """As Lambda reports it: base64 of the SHA-256 of the zip."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()
