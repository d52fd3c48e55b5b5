import 'aws-sdk-client-mock-jest';
import '../../lib/local/polyfills';
