"""The networks of the method: masked (scratch-ticket) layers, the initialisations of Fig. 1, the models."""
