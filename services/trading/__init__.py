"""Trading service: portfolios, orders, execution, positions and P&L."""
