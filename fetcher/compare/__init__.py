"""The comparison harness: the same batch fetched by several strategies, what each cost, and why.

harness    runs each strategy in a child process of its own (runner) and measures it
summary    RunSummary: the figures of one strategy's run, and the ideal to set them against
sweep      the same over a range of worker counts
explain    plain sentences drawn from the summaries
timeline   per-request lanes, as data for the renderers
"""
