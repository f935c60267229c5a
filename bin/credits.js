#!/usr/bin/env node
import { main } from '../dist/credits.js';

await main();
