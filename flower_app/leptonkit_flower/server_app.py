"""The ServerApp: Flower's FedAvg (or SecAgg+) over the SuperNodes, options from the run config."""

from leptonkit import fl

from .task import evaluate, make_model, save

app = fl.flower_server_app(make_model, evaluate=evaluate, on_round=save)
