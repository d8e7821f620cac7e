import EmberBench
