"""The lab as a whole: bring LocalStack and the inbox up and down (`sfnlab up`, `down`,
`status`, `logs`), and run the whole exercise in one go (`sfnlab exercise`)."""
