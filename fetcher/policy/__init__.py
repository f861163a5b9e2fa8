"""What a fetch loop decides besides fetching: what a failure was, whether to try again, how hard
to press on servers, whom to trust. The production-loop page (docs/production-loop.md) tells
readers to copy these modules with the loop:

    classify   any client's exception -> one ErrorKind
    retry      the retry policy on stamina: backoff, jitter, Retry-After, budgets
    limits     the rate and per-host limits shared by every worker of a run
    tls        the one SSL context of a run: verification on, the CA bundle it trusts
"""
