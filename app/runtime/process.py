"""This server process's identity, shared by the hub, the pages and the relay feed."""

import uuid

#: Identifies this server process: a page that reconnects to a different one reloads,
#: and the relay lists it among the processes declaring subscriptions.
PROCESS_ID = uuid.uuid4().hex[:12]
