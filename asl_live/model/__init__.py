"""The TFLite sign model file: run it, embed with it, take its last layer out and put a new one in,
its bank and its unknown rule. Imports go one way: runtime <- head, bank <- unknown_rule <- classifier;
extend (teaching) sits on top of them all."""

UNKNOWN = "unknown"   # the answer when the model's rule rejects a sign; also a class of the shipped model
