"""Lambda functions in tests: their code as a zip, and a synchronous invocation."""

from __future__ import annotations

import io
import json
import textwrap
import zipfile


def zip_files(files: dict[str, str]) -> bytes:
    """A zip of `files` (name -> source text, dedented), as CreateFunction takes it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()


def invoke(lambda_client, name: str, event: object = None, **kwargs) -> dict:
    """Invoke synchronously; returns the response with `Payload` parsed from JSON."""
    response = lambda_client.invoke(
        FunctionName=name, Payload=json.dumps(event if event is not None else {}), **kwargs
    )
    response["Payload"] = json.loads(response["Payload"].read() or b"null")
    return response
