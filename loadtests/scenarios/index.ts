// Scenario name → implementation.
import type { ScenarioName } from '../lib/args';
import { chat } from './chat';
import { connect } from './connect';
import { fanout } from './fanout';
import { history } from './history';
import type { Scenario } from './types';

export const scenarios: Record<ScenarioName, Scenario> = { connect, chat, cluster: chat, fanout, history };
