"""Expense claims: filled in by the claims issue. The case workflow already reads
`case.expense_claim` through the reverse relation, and finds none until then."""
