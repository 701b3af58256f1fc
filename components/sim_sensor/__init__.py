"""sim_sensor: a sensor that reads its value from a file a simulator rewrites, the way a sensor
reads its hardware (sim/pvsim's --tank-out, for one). Host (Linux) builds only: it is how tests and
the demo feed the gateway simulated measurements; no ESP has such a file."""

CODEOWNERS = ["@routeur-pv"]
