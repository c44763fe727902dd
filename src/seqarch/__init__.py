"""seqarch: RNN, LSTM, GRU, Transformer or a modern recurrent model — derive, decide, defend."""

__version__ = "0.1.0"
