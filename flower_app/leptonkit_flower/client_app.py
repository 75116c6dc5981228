"""The ClientApp: leptonkit's local training on this SuperNode's own partition.

The same app as ``leptonkit.fl.flower_client_app(make_model, load_partition)`` (the one
``fl.run_on_flower`` runs on the simulation engine), with its imports deferred: the SuperNode starts
one process per message, and three of SecAgg+'s four stages (key setup, key sharing, unmasking)
are answered by Flower's ``secaggplus_mod`` alone, so they import neither torch nor the data.
"""

from flwr.app import Context, Message
from flwr.clientapp import ClientApp
from flwr.clientapp.typing import ClientAppCallable


def _secaggplus_when_asked(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    """``secaggplus_mod`` on a SecAgg+ run's messages (as ``fl._secaggplus_when_asked``, torch-free)."""
    from flwr.client.mod import secaggplus_mod
    from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS

    if RECORD_KEY_CONFIGS in msg.content.config_records:
        return secaggplus_mod(msg, context, call_next)
    return call_next(msg, context)


app = ClientApp()


@app.train(mods=[_secaggplus_when_asked])
def train(msg: Message, context: Context) -> Message:
    from leptonkit import fl

    from .task import load_partition, make_model

    return fl.flower_train(msg, context, make_model=make_model, load_data=load_partition)
