"""Demo participatory budgets (order 70, after processes and proposals): one per demo
collectivité, each at a different stage, with twelve realistic projects already analysed:

- Mulhouse: the vote is open (global envelope, knapsack, from 16 years old), with paper
  ballots already entered at two polling points;
- Angers: results published and implementation under way (envelope split per quartier,
  vote per quartier), milestones, progress and public updates on the retained projects;
- Saillans: analysis done, vote opening in a few days (approval vote, 1 to 3 projects,
  census list to check voters against).

Idempotent: a budget is found by its title; its dates follow today's date at every run,
projects are found by title, ballots are only added to a budget that has none.

``scenarios`` holds the three budgets, their projects and census list; ``seed`` writes them
(importing it registers the seeder with ``core.demo``).
"""

from participation.budgets.demo import seed  # noqa: F401 - registers the seeder
