"""Create a simulation run from the synthetic model of simulations/synthetic.py."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from employees.models import Site
from simulations import selectors, services, synthetic


class Command(BaseCommand):
    help = "Generate a synthetic simulation run for a site (see docs/simulations.md for the model)."

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True, help="Site id or exact name.")
        parser.add_argument("--rows", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--scenario", default="synthetic baseline")

    def handle(self, *args, site: str, rows: int, seed: int, scenario: str, **options):
        target = Site.objects.filter(pk=int(site)).first() if site.isdigit() else None
        target = target or Site.objects.filter(name=site).first()
        if target is None:
            raise CommandError(f"No site with id or name {site!r}.")
        if not 1 <= rows <= services.MAX_ROWS:
            raise CommandError(f"--rows must be between 1 and {services.MAX_ROWS}.")
        models = selectors.synthetic_models()
        try:
            run = services.simulation_run_create(
                actor=None,
                site=target,
                scenario=scenario,
                parameters=synthetic.synthetic_parameters(rows=rows, seed=seed, models=models),
                generator_version=synthetic.GENERATOR_VERSION,
                results=synthetic.synthetic_results_generate(rows=rows, seed=seed, models=models),
            )
        except ValidationError as error:
            raise CommandError(str(error))
        self.stdout.write(self.style.SUCCESS(f"Created simulation run {run.pk} with {run.row_count} rows at {target}."))
