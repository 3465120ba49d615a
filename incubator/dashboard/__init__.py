"""Results made visible: indicators of the programme, with accessible server-side charts."""
