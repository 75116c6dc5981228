"""leptonkit's Flower app: FedAvg with the kit's local training, on Flower's deployment engine.

``server_app.app`` and ``client_app.app`` are the two components ``flwr run`` starts; both are built
by ``leptonkit.fl.flower_server_app`` / ``flower_client_app``, the same code ``fl.run_on_flower``
runs on the simulation engine. ``task`` says what each SuperNode loads and how the model is built;
``loopback`` starts a whole federation (SuperLink and SuperNodes) on 127.0.0.1 for the tests, the
benchmark and notebook 05.
"""
