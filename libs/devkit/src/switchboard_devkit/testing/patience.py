"""How long a test waits for what must happen. The suite runs four workers on two cores beside the
servers they start, and a busy moment leaves a process a fraction of a core for seconds: a CI run
once saw a JetStream publish go unanswered for 5 s (nats-py's default) and a service take more than
10 s to start. These bounds are for what must happen, so a generous one costs nothing when it does;
they never stand for a time something must take."""

STARTUP = 60.0  # a service started in-process, until its consumer exists or its port answers
REPLY = 30.0  # one request: an HTTP call, the ack of a JetStream publish
