from datetime import date

import strawberry


@strawberry.input
class BirthFigureInput:
    month: date = strawberry.field(description="the month's first day")
    reach_area: str
    births: int
