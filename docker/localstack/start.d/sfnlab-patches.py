# The kit's patches to LocalStack 4.14.0 (localstack-patches/), on LocalStack's image.
#
# LocalStack runs the Python files of /etc/localstack/init/start.d inside its own process
# as it starts, before its gateway opens and before any service loads; docker-compose.yml
# mounts this folder there and the patches' source at /opt/sfnlab/localstack-patches.
# This does what the embedded LocalStack's start-up hook does: on 4.14.0 it applies every
# patch, on any other version it applies none and says so in LocalStack's log.
import os
import sys

source = os.environ.get("SFNLAB_PATCHES_SOURCE", "/opt/sfnlab/localstack-patches/src")
if source not in sys.path:
    sys.path.insert(0, source)

from localstack_sfnlab_patches.plugin import apply_sfnlab_patches  # noqa: E402

apply_sfnlab_patches()
