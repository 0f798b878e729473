from tests.actors.leaks import no_leftover_actors_or_threads

__all__ = ["no_leftover_actors_or_threads"]
