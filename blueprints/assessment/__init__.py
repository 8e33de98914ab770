"""Annual assessment (年度考核, seed 002) of each district: indicators, scores, ranking, leadership PDFs."""
