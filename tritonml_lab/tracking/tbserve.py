"""TensorBoard on a Unix socket: ``python -m tritonml_lab.tracking.tbserve --host unix:///DIR/tb.sock ...``.

TensorBoard's own command line serves TCP only on the node, where every user of a shared node could
reach it (TensorBoard has no authentication). Werkzeug, its server, binds a ``unix://`` host already;
only TensorBoard's URL printing and its info file assume a port, so this is TensorBoard's ``main``
with a server class that names the socket instead. Everything else is TensorBoard's own code and flags.
"""

from __future__ import annotations

import sys

from absl import app
from tensorboard import default, main_lib, program
from tensorboard.plugins import base_plugin


class UnixSocketServer(program.WerkzeugServer):
    def get_url(self) -> str:
        return "http+unix://%s/" % self._flags.host[len("unix://"):]


class TensorBoard(program.TensorBoard):
    def _register_info(self, server) -> None:  # the info file (for `tensorboard --list`) needs a port
        pass


def main() -> None:
    main_lib.global_init()
    tensorboard = TensorBoard(plugins=default.get_plugins(), server_class=UnixSocketServer)
    try:
        app.run(tensorboard.main, flags_parser=tensorboard.configure)
    except base_plugin.FlagsError as exc:
        print("Error: %s" % exc, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
