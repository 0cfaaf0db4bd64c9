"""The reproduction of the supplement: what each section computes, the context that loads it from the
run store, the plan and its cost, sweeps, the headline and scale claims, and the claims engine."""
