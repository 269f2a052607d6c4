"""The card sandbox: the executor's contract and the child process that runs a card's code."""
